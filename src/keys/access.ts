import { AppError } from '../errors/app-error.js';
import { hasScope, type Principal, type Scope } from './keys.service.js';

/**
 * Tenant isolation, checked by services on every organization-scoped operation. A key restricted to one
 * organization gets the same 404 for another organization as for one that does not exist, so it cannot
 * even learn which ids are real.
 */
export function assertOrganizationAccess(principal: Principal, organizationId: string): void {
  if (principal.organizationId !== null && principal.organizationId !== organizationId) {
    throw new AppError('not_found', `Organization not found: '${organizationId}'.`);
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!hasScope(principal, scope)) {
    throw new AppError('forbidden', `This API key lacks the '${scope}' scope needed for this request.`);
  }
}

/** Operations on the whole installation (keys, creating organizations) need an unrestricted admin key. */
export function requireUnrestrictedAdmin(principal: Principal): void {
  requireScope(principal, 'admin');
  if (principal.organizationId !== null) {
    throw new AppError('forbidden', 'This API key is restricted to one organization and cannot perform this request.');
  }
}
