/** A configuration value is missing or wrong; start-up stops with this message. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
