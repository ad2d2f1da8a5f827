-- Users are created on first sight of their X-User-ID; the ingress authenticates them.
CREATE TABLE users (
    id          text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         text NOT NULL REFERENCES users (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '',
    ontology_version integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE INDEX projects_owner_idx ON projects (owner_id, created_at DESC) WHERE deleted_at IS NULL;

-- Versions are immutable once a file has been extracted with them (used_at set): results are keyed by version.
CREATE TABLE ontologies (
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version     integer NOT NULL CHECK (version >= 1),
    name        text NOT NULL DEFAULT '',
    format      text NOT NULL DEFAULT 'original',
    content     jsonb NOT NULL,
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    PRIMARY KEY (project_id, version)
);

CREATE TABLE files (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id       uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    owner_id         text NOT NULL REFERENCES users (id),
    original_name    text NOT NULL,
    object_key       text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    error            text,
    size_bytes       bigint,
    sha256           text,
    page_count       integer,
    ontology_version integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    UNIQUE (object_key)
);
CREATE INDEX files_project_idx ON files (project_id, created_at DESC);
CREATE INDEX files_status_idx ON files (project_id, status);

-- One row per (file, step). input_generation identifies the object version the step consumed, so a
-- redelivered event for the same version is recognised and skipped.
CREATE TABLE steps (
    file_id          uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    step             text NOT NULL CHECK (step IN ('parse', 'structure', 'extract')),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    input_generation text,
    input_etag       text,
    started_at       timestamptz,
    finished_at      timestamptz,
    metrics          jsonb NOT NULL DEFAULT '{}'::jsonb,
    error            text,
    PRIMARY KEY (file_id, step)
);
