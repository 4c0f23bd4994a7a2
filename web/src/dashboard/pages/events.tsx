import { EventsExplorer } from '../../features/events/events-explorer';
import { PageHeader } from '../../ui/page-header';
import { useOrganizations } from '../hooks';

export function EventsPage() {
  const orgs = useOrganizations();
  return (
    <div className="page page-wide">
      <PageHeader title="Events" description="Search every organization’s audit log. Open an event for its full JSON and its place in the hash chain." />
      <EventsExplorer mode="dashboard" organizations={orgs.data?.data ?? []} />
    </div>
  );
}
