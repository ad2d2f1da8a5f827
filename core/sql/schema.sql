-- The schema the migrations in core/sql/migrations produce (pg_dump --schema-only).
-- tests/integration/test_migrations.py fails when the two drift apart; regenerate it with
-- pg_dump --schema-only --no-owner --no-privileges --no-comments after adding a migration.


CREATE TABLE public.extracted_values (
    file_id uuid NOT NULL,
    project_id uuid NOT NULL,
    ontology_version integer NOT NULL,
    category text NOT NULL,
    field text NOT NULL,
    field_id text NOT NULL,
    value jsonb,
    value_text text DEFAULT ''::text NOT NULL,
    status text NOT NULL,
    verified boolean DEFAULT false NOT NULL,
    evidence jsonb DEFAULT '[]'::jsonb NOT NULL,
    extractor text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT extracted_values_status_check CHECK ((status = ANY (ARRAY['filled'::text, 'empty'::text, 'invalid'::text])))
);

CREATE TABLE public.files (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    owner_id text NOT NULL,
    original_name text NOT NULL,
    object_key text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    error text,
    size_bytes bigint,
    sha256 text,
    page_count integer,
    ontology_version integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT files_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'processing'::text, 'completed'::text, 'failed'::text])))
);

CREATE TABLE public.llm_cache (
    key text NOT NULL,
    model text NOT NULL,
    response text NOT NULL,
    usage jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_hit_at timestamp with time zone
);

CREATE TABLE public.llm_usage (
    id bigint NOT NULL,
    file_id uuid NOT NULL,
    run_id uuid NOT NULL,
    ontology_version integer NOT NULL,
    category text NOT NULL,
    attempt integer DEFAULT 1 NOT NULL,
    model text NOT NULL,
    cache_hit boolean DEFAULT false NOT NULL,
    prompt_tokens integer DEFAULT 0 NOT NULL,
    completion_tokens integer DEFAULT 0 NOT NULL,
    cached_prompt_tokens integer DEFAULT 0 NOT NULL,
    latency_ms integer,
    outcome text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT llm_usage_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT llm_usage_outcome_check CHECK ((outcome = ANY (ARRAY['valid'::text, 'invalid'::text, 'error'::text])))
);

ALTER TABLE public.llm_usage ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.llm_usage_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.ontologies (
    project_id uuid NOT NULL,
    version integer NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    format text DEFAULT 'original'::text NOT NULL,
    content jsonb NOT NULL,
    sha256 text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    used_at timestamp with time zone,
    CONSTRAINT ontologies_version_check CHECK ((version >= 1))
);

CREATE TABLE public.projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    owner_id text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    ontology_version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT projects_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

CREATE TABLE public.schema_migrations (
    version text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.steps (
    file_id uuid NOT NULL,
    step text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    lease_until timestamp with time zone,
    input_generation text,
    input_etag text,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    error text,
    CONSTRAINT steps_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'completed'::text, 'failed'::text]))),
    CONSTRAINT steps_step_check CHECK ((step = ANY (ARRAY['parse'::text, 'structure'::text, 'extract'::text])))
);

CREATE TABLE public.users (
    id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.extracted_values
    ADD CONSTRAINT extracted_values_pkey PRIMARY KEY (file_id, ontology_version, category, field);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_object_key_key UNIQUE (object_key);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.llm_cache
    ADD CONSTRAINT llm_cache_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.llm_usage
    ADD CONSTRAINT llm_usage_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ontologies
    ADD CONSTRAINT ontologies_pkey PRIMARY KEY (project_id, version);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.steps
    ADD CONSTRAINT steps_pkey PRIMARY KEY (file_id, step);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

CREATE INDEX extracted_values_field_idx ON public.extracted_values USING btree (project_id, field_id, ontology_version);

CREATE INDEX extracted_values_name_idx ON public.extracted_values USING btree (project_id, category, field);

CREATE INDEX files_project_idx ON public.files USING btree (project_id, created_at DESC, id DESC);

CREATE INDEX files_status_idx ON public.files USING btree (project_id, status);

CREATE INDEX llm_usage_file_idx ON public.llm_usage USING btree (file_id, created_at);

CREATE INDEX projects_owner_idx ON public.projects USING btree (owner_id, created_at DESC) WHERE (deleted_at IS NULL);

ALTER TABLE ONLY public.extracted_values
    ADD CONSTRAINT extracted_values_file_id_fkey FOREIGN KEY (file_id) REFERENCES public.files(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.extracted_values
    ADD CONSTRAINT extracted_values_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.llm_usage
    ADD CONSTRAINT llm_usage_file_id_fkey FOREIGN KEY (file_id) REFERENCES public.files(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.ontologies
    ADD CONSTRAINT ontologies_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.steps
    ADD CONSTRAINT steps_file_id_fkey FOREIGN KEY (file_id) REFERENCES public.files(id) ON DELETE CASCADE;
