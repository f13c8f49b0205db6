/** Injection token of the validated {@link Environment}. */
export const ENVIRONMENT = Symbol('ENVIRONMENT');
