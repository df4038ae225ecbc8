/** Signal handling for daemons: stop on SIGTERM/SIGINT, reload on SIGHUP. */

/** The signals {@link installSignalHandlers} listens to. */
export type HandledSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

/** Options of {@link installSignalHandlers}. */
export interface SignalHandlerOptions {
  /** Called once, on the first SIGTERM or SIGINT: finish the current cycle, save state, exit 0. */
  onStop: (signal: 'SIGTERM' | 'SIGINT') => void;
  /** Called on each SIGHUP (reopen log files). Without it SIGHUP is ignored (never kills the daemon). */
  onReload?: () => void;
  /**
   * Called on a second SIGTERM/SIGINT while stopping. Default: `process.exit(1)`
   * (an impatient operator or systemd's final kill; lock files are still removed by the exit hook).
   */
  onForceExit?: (signal: 'SIGTERM' | 'SIGINT') => void;
  /** Where to listen (tests pass an EventEmitter). Default `process`. */
  target?: {
    on(event: HandledSignal, fn: () => void): unknown;
    off(event: HandledSignal, fn: () => void): unknown;
  };
}

/**
 * Install SIGTERM/SIGINT/SIGHUP handlers. The handlers only call your callbacks; do the work in
 * the loop. Returns a function that removes them again.
 */
export function installSignalHandlers(options: SignalHandlerOptions): () => void {
  const target = options.target ?? process;
  let stopping = false;
  const stop = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) {
      (options.onForceExit ?? (() => process.exit(1)))(signal);
      return;
    }
    stopping = true;
    options.onStop(signal);
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  const onHup = () => options.onReload?.();
  target.on('SIGTERM', onTerm);
  target.on('SIGINT', onInt);
  target.on('SIGHUP', onHup);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    target.off('SIGTERM', onTerm);
    target.off('SIGINT', onInt);
    target.off('SIGHUP', onHup);
  };
}
