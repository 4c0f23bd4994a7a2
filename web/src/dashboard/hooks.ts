import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/api';
import { SYSTEM_LOG_NAME } from '../lib/format';
import type { List, LogStream, Organization } from '../lib/types';

/**
 * Organizations for pickers and name lookups (the first 100, and Verity's own system organization, which
 * holds its administrative audit events: the dashboard shows it, apart from customers).
 */
export function useOrganizations() {
  return useQuery({
    queryKey: ['organizations', 'all'],
    queryFn: () => api.get<List<Organization>>('/organizations', { limit: 100, include_system: true }),
    staleTime: 30_000,
  });
}

/** Customers and the system organization, separated: pickers list customers and offer the system log apart. */
export function useOrgDirectory(): { customers: Organization[]; system: Organization | undefined; more: boolean; loaded: boolean } {
  const orgs = useOrganizations();
  const all = orgs.data?.data ?? [];
  return {
    customers: all.filter((org) => org.system !== true),
    system: all.find((org) => org.system === true),
    more: orgs.data?.list_metadata.after != null,
    loaded: orgs.data !== undefined,
  };
}

export function useOrgNames(): Map<string, string> {
  const orgs = useOrganizations();
  return new Map((orgs.data?.data ?? []).map((org) => [org.id, org.system === true ? SYSTEM_LOG_NAME : org.name]));
}

export function useStreams(organizationId?: string) {
  return useQuery({
    queryKey: ['streams', organizationId ?? 'all'],
    queryFn: () => api.get<List<LogStream>>('/log_streams', { limit: 100, organization_id: organizationId }),
    refetchInterval: 15_000,
  });
}
