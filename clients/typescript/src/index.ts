/**
 * Typed clients for the four medsupport services. The types in ./generated are written by
 * `make openapi` from docs/openapi/*.json (do not edit them); this file only wires them to openapi-fetch.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";

import type { paths as FeedbackPaths } from "./generated/feedback";
import type { paths as MentorshipPaths } from "./generated/mentorship";
import type { paths as NotificationsPaths } from "./generated/notifications";
import type { paths as WellbeingPaths } from "./generated/wellbeing";

export type * as Feedback from "./generated/feedback";
export type * as Mentorship from "./generated/mentorship";
export type * as Notifications from "./generated/notifications";
export type * as Wellbeing from "./generated/wellbeing";

/** The local ports `make up` serves on; a deployment passes its own base URLs. */
export const LOCAL_BASE_URLS = {
  feedback: "http://127.0.0.1:8001",
  wellbeing: "http://127.0.0.1:8002",
  mentorship: "http://127.0.0.1:8003",
  notifications: "http://127.0.0.1:8004",
} as const;

export interface MedsupportOptions extends ClientOptions {
  /** Returns the caller's current bearer token (the identity provider's JWT), read on every request. */
  token?: () => string | undefined | Promise<string | undefined>;
}

function bearer(token: NonNullable<MedsupportOptions["token"]>): Middleware {
  return {
    async onRequest({ request }) {
      const value = await token();
      if (value) request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  };
}

function build<Paths extends {}>(options: MedsupportOptions): Client<Paths> {
  const { token, ...rest } = options;
  const client = createClient<Paths>(rest);
  if (token) client.use(bearer(token));
  return client;
}

export const feedbackClient = (options: MedsupportOptions): Client<FeedbackPaths> => build<FeedbackPaths>(options);
export const wellbeingClient = (options: MedsupportOptions): Client<WellbeingPaths> => build<WellbeingPaths>(options);
export const mentorshipClient = (options: MedsupportOptions): Client<MentorshipPaths> =>
  build<MentorshipPaths>(options);
export const notificationsClient = (options: MedsupportOptions): Client<NotificationsPaths> =>
  build<NotificationsPaths>(options);
