/** A fully built provider request. Builders are pure and return this; only the HTTP client sends it. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** The secrets a request carries; every error built from it is scrubbed of them. */
export type SecretList = readonly string[];
