import { Type, type Static } from 'typebox';

// Upper bounds keep an anonymous request from making scrypt hash megabytes.
const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' });

export const LoginBodySchema = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 320 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBodySchema>;

export const SetupBodySchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 512 }),
    email: Email,
    password: Type.String({ minLength: 12, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type SetupBody = Static<typeof SetupBodySchema>;
