// One way for a page to ask the API: same-origin fetch with the session cookie, JSON in and
// out, and every refusal as an ApiError carrying the status and the server's own detail.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// ifMatch: the version a write replaces (the resource's ETag), as every versioned write needs.
export async function api(path, { method = "GET", json, body, ifMatch } = {}) {
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
    throw new ApiError(response.status, answer.detail || response.statusText);
  }
  return response.status === 204 ? null : response.json();
}

// Whether the browser holds a live session: 200 either way, so nothing red in the console.
export async function loggedIn() {
  return (await api("/api/auth/session")).authenticated;
}

export const me = () => api("/api/auth/me");
