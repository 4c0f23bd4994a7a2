-- A domain keeps its id and created_at when an organization update lists it again; updated_at says when its
-- state last changed (the WorkOS organization_domain object carries both).
alter table organization_domains add column updated_at timestamptz not null default now();
update organization_domains set updated_at = created_at;
