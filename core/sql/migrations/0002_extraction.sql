-- Token usage of every LLM request made while extracting a file, and of every response-cache hit
-- (zero tokens spent). run_id groups the requests of one extraction run.
CREATE TABLE llm_usage (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id              uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    run_id               uuid NOT NULL,
    ontology_version     integer NOT NULL,
    category             text NOT NULL,
    attempt              integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    model                text NOT NULL,
    cache_hit            boolean NOT NULL DEFAULT false,
    prompt_tokens        integer NOT NULL DEFAULT 0,
    completion_tokens    integer NOT NULL DEFAULT 0,
    cached_prompt_tokens integer NOT NULL DEFAULT 0,
    latency_ms           integer,
    outcome              text NOT NULL CHECK (outcome IN ('valid', 'invalid', 'error')),
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_usage_file_idx ON llm_usage (file_id, created_at);

-- LLM responses keyed by a hash of model + messages + parameters: a re-run with nothing changed makes
-- no request. Shared by all files, since the same prompt deserves the same answer.
CREATE TABLE llm_cache (
    key          text PRIMARY KEY,
    model        text NOT NULL,
    response     text NOT NULL,
    usage        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_hit_at  timestamptz
);

-- One row per extracted value, so the API can list a project's values by field across files.
-- field_id is "<class id>.<attribute id>" of the ontology version the value was extracted with.
CREATE TABLE extracted_values (
    file_id          uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    project_id       uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    ontology_version integer NOT NULL,
    category         text NOT NULL,
    field            text NOT NULL,
    field_id         text NOT NULL,
    value            jsonb,
    value_text       text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN ('filled', 'empty', 'invalid')),
    verified         boolean NOT NULL DEFAULT false,
    evidence         jsonb NOT NULL DEFAULT '[]'::jsonb,
    extractor        text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (file_id, ontology_version, category, field)
);
CREATE INDEX extracted_values_field_idx ON extracted_values (project_id, field_id, ontology_version);
CREATE INDEX extracted_values_name_idx ON extracted_values (project_id, category, field);
