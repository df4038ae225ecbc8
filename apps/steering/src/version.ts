/** Version reported by `--version`, the health endpoint and the start-up log line. */
export const VERSION = '0.1.0';
