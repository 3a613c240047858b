// Generated once from the schema as version 1 shipped it, and frozen: never edit. A change to the
// schema is a new named migration (Migrations.swift); StoreTests checks that a freshly migrated
// database matches CRMSchema, so a schema change made only in CRMSchema fails there.

/// The DDL the `v1-schema` migration ran: every table and index of schema version 1, literally.
enum FrozenSchemaV1 {
    /// The `v1-identify` migration's table of facts about the file, as it shipped.
    static let meta = """
        CREATE TABLE rolo_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        INSERT INTO rolo_meta (key, value) VALUES ('application', 'rolo'), ('schema_version', '1');
        """

    static let statements: [String] = [
        #"""
        CREATE TABLE "teams" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL UNIQUE COLLATE NOCASE,
          "description" TEXT,
          "manager_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE TABLE "users" (
          "id" INTEGER PRIMARY KEY,
          "handle" TEXT NOT NULL UNIQUE COLLATE NOCASE,
          "name" TEXT NOT NULL,
          "email" TEXT,
          "team_id" INTEGER REFERENCES "teams"(id) ON DELETE SET NULL,
          "active" INTEGER NOT NULL DEFAULT 1 CHECK ("active" IN (0, 1)),
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_users_team_id" ON "users"("team_id")
        """#,
        #"""
        CREATE TABLE "roles" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL UNIQUE COLLATE NOCASE,
          "description" TEXT,
          "builtin" INTEGER NOT NULL DEFAULT 0 CHECK ("builtin" IN (0, 1)),
          "created_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE TABLE "role_permissions" (
          "id" INTEGER PRIMARY KEY,
          "role_id" INTEGER NOT NULL REFERENCES "roles"(id) ON DELETE RESTRICT,
          "effect" TEXT NOT NULL CHECK ("effect" IN ('allow', 'deny')),
          "action" TEXT NOT NULL CHECK ("action" IN ('read', 'create', 'update', 'delete', 'assign', 'merge', 'export', 'import', 'grant', 'manage_scripts')),
          "entity" TEXT NOT NULL,
          "scope" TEXT NOT NULL CHECK ("scope" IN ('own', 'team', 'all')),
          "fields" TEXT,
          "reason" TEXT,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_role_permissions_role_id" ON "role_permissions"("role_id")
        """#,
        #"""
        CREATE TABLE "user_roles" (
          "id" INTEGER PRIMARY KEY,
          "user_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "role_id" INTEGER NOT NULL REFERENCES "roles"(id) ON DELETE RESTRICT,
          "granted_by" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "granted_at" TEXT NOT NULL,
          UNIQUE (user_id, role_id)
        )
        """#,
        #"""
        CREATE INDEX "idx_user_roles_role_id" ON "user_roles"("role_id")
        """#,
        #"""
        CREATE TABLE "accounts" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL,
          "industry" TEXT CHECK ("industry" IN ('software', 'manufacturing', 'retail', 'healthcare', 'finance', 'education', 'logistics', 'energy', 'media', 'hospitality', 'construction', 'agriculture')),
          "website" TEXT,
          "phone" TEXT,
          "city" TEXT,
          "country" TEXT,
          "annual_revenue" INTEGER CHECK (typeof("annual_revenue") IN ('integer', 'null')),
          "employees" INTEGER,
          "customer_since" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_accounts_name" ON "accounts"("name" COLLATE NOCASE)
        """#,
        #"""
        CREATE INDEX "idx_accounts_owner_id" ON "accounts"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_accounts_updated_at" ON "accounts"("updated_at")
        """#,
        #"""
        CREATE TABLE "contacts" (
          "id" INTEGER PRIMARY KEY,
          "first_name" TEXT,
          "last_name" TEXT NOT NULL,
          "email" TEXT,
          "phone" TEXT,
          "title" TEXT,
          "job_function" TEXT,
          "company" TEXT,
          "account_id" INTEGER REFERENCES "accounts"(id) ON DELETE SET NULL,
          "city" TEXT,
          "country" TEXT,
          "last_verified_at" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_contacts_email" ON "contacts"("email" COLLATE NOCASE)
        """#,
        #"""
        CREATE INDEX "idx_contacts_account_id" ON "contacts"("account_id")
        """#,
        #"""
        CREATE INDEX "idx_contacts_owner_id" ON "contacts"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_contacts_last_name_first_name" ON "contacts"("last_name", "first_name")
        """#,
        #"""
        CREATE INDEX "idx_contacts_company" ON "contacts"("company")
        """#,
        #"""
        CREATE INDEX "idx_contacts_updated_at" ON "contacts"("updated_at")
        """#,
        #"""
        CREATE TABLE "campaigns" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL UNIQUE COLLATE NOCASE,
          "channel" TEXT NOT NULL CHECK ("channel" IN ('email', 'webinar', 'event', 'social', 'paid_search', 'content')),
          "status" TEXT NOT NULL CHECK ("status" IN ('planned', 'active', 'completed')),
          "start_date" TEXT,
          "end_date" TEXT,
          "budget" INTEGER CHECK (typeof("budget") IN ('integer', 'null')),
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_campaigns_owner_id" ON "campaigns"("owner_id")
        """#,
        #"""
        CREATE TABLE "leads" (
          "id" INTEGER PRIMARY KEY,
          "first_name" TEXT,
          "last_name" TEXT NOT NULL,
          "email" TEXT,
          "phone" TEXT,
          "company" TEXT,
          "title" TEXT,
          "source" TEXT NOT NULL CHECK ("source" IN ('web', 'webinar', 'referral', 'event', 'cold_call', 'partner', 'advertising', 'trade_show')),
          "status" TEXT NOT NULL DEFAULT 'new' CHECK ("status" IN ('new', 'contacted', 'qualified', 'unqualified', 'converted', 'junk')),
          "score" INTEGER NOT NULL DEFAULT 0,
          "campaign_id" INTEGER REFERENCES "campaigns"(id) ON DELETE SET NULL,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_leads_email" ON "leads"("email" COLLATE NOCASE)
        """#,
        #"""
        CREATE INDEX "idx_leads_owner_id" ON "leads"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_leads_status" ON "leads"("status")
        """#,
        #"""
        CREATE INDEX "idx_leads_source" ON "leads"("source")
        """#,
        #"""
        CREATE INDEX "idx_leads_campaign_id" ON "leads"("campaign_id") WHERE "campaign_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_leads_updated_at" ON "leads"("updated_at")
        """#,
        #"""
        CREATE TABLE "deals" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL,
          "account_id" INTEGER REFERENCES "accounts"(id) ON DELETE SET NULL,
          "contact_id" INTEGER REFERENCES "contacts"(id) ON DELETE SET NULL,
          "amount" INTEGER NOT NULL DEFAULT 0 CHECK (typeof("amount") IN ('integer', 'null')),
          "stage" TEXT NOT NULL CHECK ("stage" IN ('prospecting', 'qualification', 'proposal', 'negotiation', 'won', 'lost')),
          "close_date" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_deals_account_id" ON "deals"("account_id")
        """#,
        #"""
        CREATE INDEX "idx_deals_contact_id" ON "deals"("contact_id")
        """#,
        #"""
        CREATE INDEX "idx_deals_owner_id" ON "deals"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_deals_stage" ON "deals"("stage")
        """#,
        #"""
        CREATE INDEX "idx_deals_close_date" ON "deals"("close_date")
        """#,
        #"""
        CREATE INDEX "idx_deals_updated_at" ON "deals"("updated_at")
        """#,
        #"""
        CREATE TABLE "tickets" (
          "id" INTEGER PRIMARY KEY,
          "subject" TEXT NOT NULL,
          "description" TEXT,
          "status" TEXT NOT NULL DEFAULT 'new' CHECK ("status" IN ('new', 'open', 'pending', 'resolved', 'closed')),
          "priority" TEXT NOT NULL DEFAULT 'normal' CHECK ("priority" IN ('low', 'normal', 'high', 'urgent')),
          "category" TEXT CHECK ("category" IN ('billing', 'bug', 'how_to', 'feature_request', 'account_access', 'integration', 'data_quality')),
          "contact_id" INTEGER REFERENCES "contacts"(id) ON DELETE SET NULL,
          "account_id" INTEGER REFERENCES "accounts"(id) ON DELETE SET NULL,
          "assignee_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "opened_at" TEXT NOT NULL,
          "closed_at" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_tickets_contact_id" ON "tickets"("contact_id")
        """#,
        #"""
        CREATE INDEX "idx_tickets_account_id" ON "tickets"("account_id")
        """#,
        #"""
        CREATE INDEX "idx_tickets_assignee_id" ON "tickets"("assignee_id")
        """#,
        #"""
        CREATE INDEX "idx_tickets_owner_id" ON "tickets"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_tickets_status" ON "tickets"("status")
        """#,
        #"""
        CREATE INDEX "idx_tickets_updated_at" ON "tickets"("updated_at")
        """#,
        #"""
        CREATE TABLE "activities" (
          "id" INTEGER PRIMARY KEY,
          "kind" TEXT NOT NULL CHECK ("kind" IN ('call', 'email', 'meeting', 'note')),
          "subject" TEXT NOT NULL,
          "body" TEXT,
          "contact_id" INTEGER REFERENCES "contacts"(id) ON DELETE SET NULL,
          "account_id" INTEGER REFERENCES "accounts"(id) ON DELETE SET NULL,
          "lead_id" INTEGER REFERENCES "leads"(id) ON DELETE SET NULL,
          "deal_id" INTEGER REFERENCES "deals"(id) ON DELETE SET NULL,
          "ticket_id" INTEGER REFERENCES "tickets"(id) ON DELETE SET NULL,
          "occurred_at" TEXT NOT NULL,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_activities_contact_id" ON "activities"("contact_id")
        """#,
        #"""
        CREATE INDEX "idx_activities_account_id" ON "activities"("account_id")
        """#,
        #"""
        CREATE INDEX "idx_activities_lead_id" ON "activities"("lead_id") WHERE "lead_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_activities_deal_id" ON "activities"("deal_id") WHERE "deal_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_activities_ticket_id" ON "activities"("ticket_id") WHERE "ticket_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_activities_owner_id" ON "activities"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_activities_occurred_at" ON "activities"("occurred_at")
        """#,
        #"""
        CREATE TABLE "tasks" (
          "id" INTEGER PRIMARY KEY,
          "title" TEXT NOT NULL,
          "status" TEXT NOT NULL DEFAULT 'open' CHECK ("status" IN ('open', 'in_progress', 'done', 'cancelled')),
          "due_date" TEXT,
          "assignee_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "contact_id" INTEGER REFERENCES "contacts"(id) ON DELETE SET NULL,
          "account_id" INTEGER REFERENCES "accounts"(id) ON DELETE SET NULL,
          "lead_id" INTEGER REFERENCES "leads"(id) ON DELETE SET NULL,
          "deal_id" INTEGER REFERENCES "deals"(id) ON DELETE SET NULL,
          "ticket_id" INTEGER REFERENCES "tickets"(id) ON DELETE SET NULL,
          "completed_at" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_tasks_assignee_id_status" ON "tasks"("assignee_id", "status")
        """#,
        #"""
        CREATE INDEX "idx_tasks_owner_id" ON "tasks"("owner_id")
        """#,
        #"""
        CREATE INDEX "idx_tasks_contact_id" ON "tasks"("contact_id") WHERE "contact_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_tasks_deal_id" ON "tasks"("deal_id") WHERE "deal_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_tasks_due_date" ON "tasks"("due_date")
        """#,
        #"""
        CREATE INDEX "idx_tasks_lead_id" ON "tasks"("lead_id") WHERE "lead_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_tasks_account_id" ON "tasks"("account_id") WHERE "account_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_tasks_ticket_id" ON "tasks"("ticket_id") WHERE "ticket_id" IS NOT NULL
        """#,
        #"""
        CREATE TABLE "campaign_members" (
          "id" INTEGER PRIMARY KEY,
          "campaign_id" INTEGER NOT NULL REFERENCES "campaigns"(id) ON DELETE RESTRICT,
          "lead_id" INTEGER REFERENCES "leads"(id) ON DELETE SET NULL,
          "contact_id" INTEGER REFERENCES "contacts"(id) ON DELETE SET NULL,
          "status" TEXT NOT NULL DEFAULT 'invited' CHECK ("status" IN ('invited', 'rsvp', 'attended', 'responded', 'bounced')),
          "responded_at" TEXT,
          "owner_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL,
          CHECK (lead_id IS NOT NULL OR contact_id IS NOT NULL)
        )
        """#,
        #"""
        CREATE INDEX "idx_campaign_members_campaign_id_status" ON "campaign_members"("campaign_id", "status")
        """#,
        #"""
        CREATE INDEX "idx_campaign_members_lead_id" ON "campaign_members"("lead_id") WHERE "lead_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_campaign_members_contact_id" ON "campaign_members"("contact_id") WHERE "contact_id" IS NOT NULL
        """#,
        #"""
        CREATE INDEX "idx_campaign_members_owner_id" ON "campaign_members"("owner_id")
        """#,
        #"""
        CREATE TABLE "change_sets" (
          "id" INTEGER PRIMARY KEY,
          "user_id" INTEGER NOT NULL REFERENCES "users"(id) ON DELETE RESTRICT,
          "impersonator_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "command" TEXT NOT NULL,
          "summary" TEXT,
          "records" INTEGER NOT NULL DEFAULT 0,
          "undoes_id" INTEGER REFERENCES "change_sets"(id) ON DELETE SET NULL,
          "undone_by_id" INTEGER REFERENCES "change_sets"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE TABLE "field_history" (
          "id" INTEGER PRIMARY KEY,
          "change_set_id" INTEGER REFERENCES "change_sets"(id) ON DELETE SET NULL,
          "entity" TEXT NOT NULL,
          "record_id" INTEGER NOT NULL,
          "op" TEXT NOT NULL CHECK ("op" IN ('create', 'update', 'delete')),
          "field" TEXT NOT NULL,
          "old_value",
          "new_value",
          "user_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "changed_at" TEXT NOT NULL
        )
        """#,
        #"""
        CREATE INDEX "idx_field_history_entity_record_id_field" ON "field_history"("entity", "record_id", "field")
        """#,
        #"""
        CREATE INDEX "idx_field_history_change_set_id" ON "field_history"("change_set_id")
        """#,
        #"""
        CREATE TABLE "audit_log" (
          "id" INTEGER PRIMARY KEY,
          "at" TEXT NOT NULL,
          "user_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "impersonator_id" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "command" TEXT NOT NULL,
          "outcome" TEXT NOT NULL CHECK ("outcome" IN ('ok', 'refused', 'error', 'dry_run')),
          "rows" INTEGER,
          "message" TEXT,
          "change_set_id" INTEGER,
          "prev_hash" TEXT,
          "hash" TEXT
        )
        """#,
        #"""
        CREATE INDEX "idx_audit_log_at" ON "audit_log"("at")
        """#,
        #"""
        CREATE INDEX "idx_audit_log_user_id" ON "audit_log"("user_id")
        """#,
        #"""
        CREATE TABLE "saved_scripts" (
          "id" INTEGER PRIMARY KEY,
          "name" TEXT NOT NULL UNIQUE COLLATE NOCASE,
          "body" TEXT NOT NULL,
          "description" TEXT,
          "created_by" INTEGER REFERENCES "users"(id) ON DELETE SET NULL,
          "created_at" TEXT NOT NULL,
          "updated_at" TEXT NOT NULL
        )
        """#,
    ]
}
