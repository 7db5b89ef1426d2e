/**
 * Whether a piece of cluster state was observed. "Missing" is not "empty": a file
 * that was never collected, or an API call the bot may not make, leaves the checks
 * that need it `unknown`, never `pass`. The reason is shown to the user as is
 * ("not collected: nodes/n1/iptables-save.txt", "forbidden: list pods in kube-system").
 */
export type Collected<T> =
  | { readonly state: 'collected'; readonly value: T }
  | { readonly state: 'missing'; readonly reason: string };

export function collected<T>(value: T): Collected<T> {
  return { state: 'collected', value };
}

export function missing<T = never>(reason: string): Collected<T> {
  return { state: 'missing', reason };
}

export function mapCollected<T, U>(c: Collected<T>, fn: (value: T) => U): Collected<U> {
  return c.state === 'collected' ? collected(fn(c.value)) : c;
}
