/**
 * EKS bearer-token authentication for the test API server, as aws-iam-authenticator's
 * server verifies a token (kubernetes-sigs/aws-iam-authenticator pkg/token/token.go
 * `Verify`): `k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL, with
 * `x-k8s-aws-id` among the signed headers, valid for 15 minutes after its `X-Amz-Date`
 * whatever `X-Amz-Expires` says (`presignedURLExpiration = 15 * time.Minute`). A token that
 * fails is answered 401 Unauthorized.
 */
import { HttpError } from './status.js';

export interface EksTokenCheck {
  /** The server's clock in ms (tests move it forward). @defaultValue Date.now */
  readonly now?: () => number;
}

const validityMs = 15 * 60 * 1000;

export function checkEksToken(authorization: string | undefined, check: EksTokenCheck): void {
  const why = problem(authorization, (check.now ?? Date.now)());
  if (why) throw new HttpError(401, 'Unauthorized', 'Unauthorized', { why });
}

function problem(authorization: string | undefined, now: number): string | undefined {
  const m = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) return 'not a k8s-aws-v1 token';
  let url: URL;
  try {
    url = new URL(Buffer.from(m[1] as string, 'base64url').toString());
  } catch {
    return 'token is not a URL';
  }
  if (url.searchParams.get('Action') !== 'GetCallerIdentity') return 'not GetCallerIdentity';
  const signed = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('x-k8s-aws-id')) return 'x-k8s-aws-id not signed';
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(url.searchParams.get('X-Amz-Date') ?? '');
  if (!d) return 'no X-Amz-Date';
  const date = Date.UTC(
    +(d[1] as string),
    +(d[2] as string) - 1,
    +(d[3] as string),
    +(d[4] as string),
    +(d[5] as string),
    +(d[6] as string),
  );
  if (now > date + validityMs) return 'X-Amz-Date parameter is expired (15 minute expiration)';
  return undefined;
}
