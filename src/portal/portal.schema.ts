import { Type, type Static } from 'typebox';

/** WorkOS's body (the SDK also sends intent_options and admin_emails; they are accepted and ignored). */
export const GenerateLinkBodySchema = Type.Object(
  {
    organization: Type.String({ minLength: 1, maxLength: 128, description: 'The organization id (org_…).' }),
    intent: Type.String({ minLength: 1, maxLength: 64, description: 'audit_logs or log_streams; other WorkOS intents answer 422.' }),
    return_url: Type.Optional(Type.String({ maxLength: 2048, description: 'Where the portal’s “back” link leads (http or https).' })),
    success_url: Type.Optional(Type.String({ maxLength: 2048, description: 'Where the portal sends the admin after finishing (http or https).' })),
    admin_emails: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 })),
    it_contact_emails: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 })),
    embed: Type.Optional(Type.Boolean({ description: 'Verity: a link for the chrome-free events viewer (/portal/embed), for an iframe in your app.' })),
  },
  { additionalProperties: true },
);
export type GenerateLinkBody = Static<typeof GenerateLinkBodySchema>;

export const GenerateLinkResponseSchema = Type.Object({
  link: Type.String({ description: 'Single use, valid for five minutes.' }),
});

export const TokenQuerySchema = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) });
export type TokenQuery = Static<typeof TokenQuerySchema>;

export const ExchangeBodySchema = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
export type ExchangeBody = Static<typeof ExchangeBodySchema>;
