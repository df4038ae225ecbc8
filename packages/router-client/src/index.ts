export * from './command.js';
export * from './deadline.js';
export * from './errors.js';
export * from './failover.js';
export { type RouterConfigSection, routerOptionsFromConfig } from './from-config.js';
export * from './parse.js';
export * from './records.js';
export type { RestClientOptions } from './rest.js';
export {
  normaliseCertFingerprint,
  presentedCertFingerprint,
  queueSetCommand,
  RestRouterClient,
} from './rest.js';
export type { KnownHostsVerdict, SshClientOptions } from './ssh.js';
export { checkKnownHosts, recordsFromConsole, SshRouterClient, sshKeyFingerprint } from './ssh.js';
export * from './types.js';
