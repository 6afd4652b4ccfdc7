import { createParleyClient, type ParleyClient } from "@parley/client";
import WebSocket from "ws";

export const PASSWORD = "correct horse battery staple";

let counter = 0;
export function uniqueEmail(name: string) {
  counter++;
  return `${name.toLowerCase()}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}@example.com`;
}

export interface ApiUser {
  email: string;
  displayName: string;
  api: ParleyClient;
}

/** Signs someone up the way a tool does (no Origin: the token comes back) and gives their client. */
export async function signUpWithApi(baseUrl: string, displayName: string): Promise<ApiUser> {
  const email = uniqueEmail(displayName);
  const { token } = await createParleyClient({ url: baseUrl }).auth.register.mutate({
    email,
    password: PASSWORD,
    displayName,
  });
  if (!token) throw new Error("auth.register returned no token to a caller without Origin");
  return { email, displayName, api: createParleyClient({ url: baseUrl, token, WebSocket }) };
}
