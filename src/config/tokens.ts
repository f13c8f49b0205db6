/** Injection token of the validated {@link Environment}. */
export const ENVIRONMENT = Symbol('ENVIRONMENT');

/** Injection token of the master {@link MasterKeyRing}. */
export const MASTER_KEYS = Symbol('MASTER_KEYS');
