/** The PagerDuty REST calls kproxy makes: read an incident's alerts, add a note. */
export interface PagerDutyRestOptions {
  readonly apiUrl: string;
  readonly token: string;
  /** A user's email; the notes endpoint requires a From header. */
  readonly from?: string | undefined;
  readonly timeoutMs?: number;
}

export class PagerDutyRest {
  constructor(private readonly o: PagerDutyRestOptions) {}

  private headers(): Record<string, string> {
    return {
      authorization: `Token token=${this.o.token}`,
      accept: 'application/vnd.pagerduty+json;version=2',
      'content-type': 'application/json',
      ...(this.o.from ? { from: this.o.from } : {}),
    };
  }

  /** `custom_details` of the incident's alerts (`alerts[].body.details`), newest first. */
  async alertDetails(incidentId: string): Promise<Record<string, unknown>[]> {
    const res = await fetch(
      `${this.o.apiUrl.replace(/\/$/, '')}/incidents/${encodeURIComponent(incidentId)}/alerts?limit=25`,
      {
        headers: this.headers(),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      },
    );
    if (!res.ok) throw new Error(`PagerDuty GET alerts answered ${res.status}`);
    const body = (await res.json()) as { alerts?: { body?: { details?: unknown } }[] };
    return (body.alerts ?? [])
      .map((a) => a.body?.details)
      .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object');
  }

  async addNote(incidentId: string, content: string): Promise<void> {
    const res = await fetch(
      `${this.o.apiUrl.replace(/\/$/, '')}/incidents/${encodeURIComponent(incidentId)}/notes`,
      {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify({ note: { content: content.slice(0, 25_000) } }),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      },
    );
    if (!res.ok) throw new Error(`PagerDuty POST note answered ${res.status}`);
  }
}
