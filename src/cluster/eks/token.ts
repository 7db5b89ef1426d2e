/**
 * The EKS bearer token, as `aws eks get-token` makes it: a presigned STS
 * GetCallerIdentity URL with the `x-k8s-aws-id` header signed in, base64url-encoded
 * behind `k8s-aws-v1.` (kubernetes-sigs/aws-iam-authenticator pkg/token).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { formatUrl } from '@aws-sdk/util-format-url';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface TokenRequest {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The signing time (X-Amz-Date): the caller's clock. @defaultValue now */
  readonly signingDate?: Date;
}

export async function eksToken(r: TokenRequest): Promise<string> {
  const host = `sts.${r.region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: 'sts',
    region: r.region,
    sha256: Sha256,
    credentials: r.credentials,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, 'x-k8s-aws-id': r.clusterName },
  });
  const presigned = await signer.presign(request, {
    expiresIn: 60,
    ...(r.signingDate ? { signingDate: r.signingDate } : {}),
  });
  return `k8s-aws-v1.${Buffer.from(formatUrl(presigned)).toString('base64url')}`;
}
