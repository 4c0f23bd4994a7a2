import { SYSTEM_LOG_NAME } from '../lib/format';
import type { Organization } from '../lib/types';

/**
 * `<option>`s for an organization picker: customers first, then Verity's own system organization in a
 * group of its own, so it is never mistaken for a customer.
 */
export function OrganizationOptions({ organizations, systemLabel = SYSTEM_LOG_NAME }: { organizations: readonly Organization[]; systemLabel?: string }) {
  const customers = organizations.filter((org) => org.system !== true);
  const system = organizations.filter((org) => org.system === true);
  const options = customers.map((org) => (
    <option key={org.id} value={org.id}>
      {org.name}
    </option>
  ));
  if (system.length === 0) return <>{options}</>;
  return (
    <>
      <optgroup label="Customers">{options}</optgroup>
      <optgroup label="Verity">
        {system.map((org) => (
          <option key={org.id} value={org.id}>
            {systemLabel}
          </option>
        ))}
      </optgroup>
    </>
  );
}
