export {
  loadSigningIdentity,
  custodyIdentity,
  localSigner,
  type KeySigner,
  checkValidity,
  type IdentityInput,
  type LoadOptions,
  type SigningIdentity,
} from './identity';
export { signMessage, defaultHash, type SignOptions, type SignatureFormat } from './sign';
export {
  verifyMessage,
  type VerifyOptions,
  type VerificationReport,
  type SignerReport,
} from './verify';
export { SignatureCache } from './signature-cache';
export { prepareMessage, type PreparedMessage } from './signed-entity';
export type { HashName } from './algorithms';
export { fromAddressOf } from './address';
