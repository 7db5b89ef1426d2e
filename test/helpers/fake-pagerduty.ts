/** A fake PagerDuty REST API: alerts with custom_details per incident, and recorded notes. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FakePagerDuty {
  readonly notes: {
    incident: string;
    content: string;
    from: string | undefined;
    auth: string | undefined;
  }[] = [];
  readonly alertReads: string[] = [];
  readonly details = new Map<string, Record<string, unknown>>();
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const url = req.url ?? '';
        const send = (status: number, doc: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(doc));
        };
        const alerts = /^\/incidents\/([^/]+)\/alerts/.exec(url);
        if (req.method === 'GET' && alerts) {
          this.alertReads.push(alerts[1] as string);
          const details = this.details.get(alerts[1] as string);
          send(200, {
            alerts: details
              ? [{ id: 'Q1', type: 'alert', alert_key: 'k1', body: { type: 'alert_body', details } }]
              : [],
            limit: 25,
            offset: 0,
            more: false,
          });
          return;
        }
        const notes = /^\/incidents\/([^/]+)\/notes$/.exec(url);
        if (req.method === 'POST' && notes) {
          const content = (JSON.parse(body) as { note: { content: string } }).note.content;
          this.notes.push({
            incident: notes[1] as string,
            content,
            from: req.headers.from as string | undefined,
            auth: req.headers.authorization,
          });
          send(201, { note: { id: 'N1', content } });
          return;
        }
        send(404, { error: { message: 'Not Found' } });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** A v3 webhook delivery shaped like PagerDuty's documented example. */
export function incidentEvent(o: {
  eventType: string;
  eventId?: string;
  incidentId: string;
  number: number;
  title: string;
  serviceId: string;
  agent?: string;
}): Record<string, unknown> {
  return {
    event: {
      id: o.eventId ?? `01DEN${o.incidentId}${o.eventType.replace(/\W/g, '')}`,
      event_type: o.eventType,
      resource_type: 'incident',
      occurred_at: '2026-11-22T10:00:00.000Z',
      agent: {
        html_url: 'https://acme.pagerduty.com/users/PLH1HKV',
        id: 'PLH1HKV',
        self: 'https://api.pagerduty.com/users/PLH1HKV',
        summary: o.agent ?? 'Tenex Engineer',
        type: 'user_reference',
      },
      client: null,
      data: {
        id: o.incidentId,
        type: 'incident',
        self: `https://api.pagerduty.com/incidents/${o.incidentId}`,
        html_url: `https://acme.pagerduty.com/incidents/${o.incidentId}`,
        number: o.number,
        status:
          o.eventType === 'incident.resolved'
            ? 'resolved'
            : o.eventType === 'incident.acknowledged'
              ? 'acknowledged'
              : 'triggered',
        incident_key: 'd3640fbd41094207a1c11e58e46b1662',
        created_at: '2026-11-22T09:59:30Z',
        title: o.title,
        service: {
          html_url: `https://acme.pagerduty.com/services/${o.serviceId}`,
          id: o.serviceId,
          self: `https://api.pagerduty.com/services/${o.serviceId}`,
          summary: 'web-api (prod-east)',
          type: 'service_reference',
        },
        assignees: [
          {
            html_url: 'https://acme.pagerduty.com/users/PTUXL6G',
            id: 'PTUXL6G',
            self: 'https://api.pagerduty.com/users/PTUXL6G',
            summary: 'Oncall Engineer',
            type: 'user_reference',
          },
        ],
        escalation_policy: {
          html_url: 'https://acme.pagerduty.com/escalation_policies/PUS0KTE',
          id: 'PUS0KTE',
          self: 'https://api.pagerduty.com/escalation_policies/PUS0KTE',
          summary: 'Default',
          type: 'escalation_policy_reference',
        },
        teams: [],
        priority: null,
        urgency: 'high',
        conference_bridge: null,
        resolve_reason: null,
      },
    },
  };
}
