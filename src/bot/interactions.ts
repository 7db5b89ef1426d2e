/**
 * kproxy's buttons and modals behind ONE Bolt action listener and ONE view listener (issue 16).
 * Bolt runs every registered listener's matchers for every request, a slash command
 * included (App.processEvent: each listener's middleware chain, an args copy and promises
 * per listener); with a listener per button and modal the bot's eight listeners cost each
 * command about 10 µs of its event loop's CPU (and the garbage), for nothing. Here the
 * handlers keep their ids (a string, equal, or a RegExp, `String.match`: Bolt's
 * matchConstraints) and the one listener calls the handler whose id matches, so each
 * interaction reaches the same handler as before and one no handler claims is left
 * unanswered, as when no listener matched.
 */
import type { AllMiddlewareArgs, App, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';

type ActionArgs = SlackActionMiddlewareArgs & AllMiddlewareArgs;
type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;
type Id = string | RegExp;

const matches = (id: Id, value: string): boolean =>
  typeof id === 'string' ? id === value : value.match(id) !== null;

export class Interactions {
  private readonly actions: [Id, (args: ActionArgs) => Promise<void>][] = [];
  private readonly views: [Id, (args: ViewArgs) => Promise<void>][] = [];

  /** A button's handler, by `action_id` (as `app.action(id, handler)`). */
  action(id: Id, handler: (args: ActionArgs) => Promise<void>): void {
    this.actions.push([id, handler]);
  }

  /** A modal submission's handler, by `callback_id` (as `app.view(id, handler)`: submissions only). */
  view(id: Id, handler: (args: ViewArgs) => Promise<void>): void {
    this.views.push([id, handler]);
  }

  /** The two listeners on `app`; each calls the first handler whose id matches (ids do not overlap). */
  install(app: App): void {
    // Any action_id and any submission's callback_id: Bolt's own checks (a block payload, a
    // view_submission) still apply before these run.
    app.action(/(?:)/, async (args) => {
      const id = (args.payload as { action_id?: string }).action_id ?? '';
      await this.actions.find(([match]) => matches(match, id))?.[1](args);
    });
    app.view(/(?:)/, async (args) => {
      await this.views.find(([match]) => matches(match, args.view.callback_id))?.[1](args);
    });
  }
}
