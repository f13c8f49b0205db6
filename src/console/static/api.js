// The admin API client. The token lives in session storage (gone when the tab closes),
// and goes only into the Authorization header, never into a URL.
const KEY = 'smime-relay-console-token';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  set: (token) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => undefined;
export const whenUnauthorized = (fn) => (onUnauthorized = fn);

/**
 * Call the admin API. `json` is sent as JSON, `body` as is (FormData, Blob, text with
 * `type`). `binary: true` resolves to a Blob. Errors reject with an ApiError carrying the
 * API's stable code.
 */
export async function api(method, path, { json, body, type, binary, token } = {}) {
  const headers = { Authorization: `Bearer ${token ?? session.token() ?? ''}` };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (type) headers['Content-Type'] = type;
  let res;
  try {
    res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network_error', 'the relay could not be reached');
  }
  if (res.ok && binary) return res.blob();
  if (res.status === 204) return null;
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error;
    const err = new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? '');
    if (res.status === 401 && !token) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const tenantPath = (tenantId, rest = '') =>
  `/v1/tenants/${encodeURIComponent(tenantId)}${rest}`;
