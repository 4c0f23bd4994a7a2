import { useQuery } from '@tanstack/react-query';
import { api } from '../lib/api';
import type { List, LogStream, Organization } from '../lib/types';

/** Organizations for pickers and name lookups (the first 100, newest first). */
export function useOrganizations() {
  return useQuery({
    queryKey: ['organizations', 'all'],
    queryFn: () => api.get<List<Organization>>('/organizations', { limit: 100 }),
    staleTime: 30_000,
  });
}

export function useOrgNames(): Map<string, string> {
  const orgs = useOrganizations();
  return new Map((orgs.data?.data ?? []).map((org) => [org.id, org.name]));
}

export function useStreams(organizationId?: string) {
  return useQuery({
    queryKey: ['streams', organizationId ?? 'all'],
    queryFn: () => api.get<List<LogStream>>('/log_streams', { limit: 100, organization_id: organizationId }),
    refetchInterval: 15_000,
  });
}
