/**
 * The real stack, as `eval "$(python3 -m devstack env)"` exports it.
 */
export function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run eval "$(python3 -m devstack env)" before the UI tests`
    );
  }
  return value;
}

export const stack = {
  get user(): string {
    return need('EVN_DEMO_USER');
  },
  get password(): string {
    return need('EVN_DEMO_PASSWORD');
  },
  get giteaUrl(): string {
    return need('EVN_GITEA_URL');
  },
  get giteaOrg(): string {
    return need('EVN_GITEA_ORG');
  },
  get giteaToken(): string {
    return process.env.EVN_GITEA_ADMIN_TOKEN || need('EVN_GITEA_TOKEN');
  }
};

/** GET from Gitea's API as its admin. */
export async function gitea(path: string): Promise<Response> {
  return fetch(`${stack.giteaUrl}/api/v1${path}`, {
    headers: { Authorization: `token ${stack.giteaToken}` }
  });
}

/** An access token of the demo researcher (the test-only client's password grant). */
export async function researcherToken(): Promise<string> {
  const response = await fetch(
    `${need('EVN_ISSUER_URL')}/protocol/openid-connect/token`,
    {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: need('EVN_TEST_CLIENT_ID'),
        username: stack.user,
        password: stack.password,
        scope: 'openid'
      })
    }
  );
  if (response.status !== 200) {
    throw new Error(`no token for the demo researcher: ${response.status}`);
  }
  return (await response.json()).access_token;
}
