// One way for a page to ask the API: same-origin fetch with the session cookie, JSON in and
// out, and every refusal as an ApiError carrying the status and the server's own detail.
// A 401 (the session ended: expired, revoked, logged out elsewhere) also tells every handler
// registered with onUnauthorized (core/auth.js brings the login form back).

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

const unauthorizedHandlers = new Set();

/** Call `handler(error)` whenever a request is refused with 401; returns the unsubscriber. */
export function onUnauthorized(handler) {
  unauthorizedHandlers.add(handler);
  return () => unauthorizedHandlers.delete(handler);
}

/** Tell the onUnauthorized handlers that a request (an API call, a tile) was refused 401. */
export function reportUnauthorized(error) {
  unauthorizedHandlers.forEach(handler => handler(error));
}

// ifMatch: the version a write replaces (the resource's ETag), as every versioned write needs.
// loginAttempt: a 401 is the answer (wrong password), not the end of a session.
export async function api(path, { method = "GET", json, body, ifMatch, loginAttempt = false } = {}) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (ifMatch !== undefined) init.headers["if-match"] = `"${ifMatch}"`;
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["content-type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;  // FormData: the browser sets the multipart boundary
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    const error = new ApiError(response.status, answer.detail || response.statusText);
    if (response.status === 401 && !loginAttempt) reportUnauthorized(error);
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

// Whether the browser holds a live session: 200 either way, so nothing red in the console.
export async function loggedIn() {
  return (await api("/api/auth/session")).authenticated;
}

export const me = () => api("/api/auth/me");
