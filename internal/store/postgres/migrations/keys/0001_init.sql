-- Data keys live in their own database so that restoring a backup of the
-- events database never brings back a key destroyed since.
CREATE TABLE data_keys (
    id        bytea  PRIMARY KEY,
    subject   text   NOT NULL,
    period    text   NOT NULL,
    kek_id    text   NOT NULL,
    wrapped   bytea,          -- NULL once destroyed
    created   bigint NOT NULL,
    destroyed bigint,
    UNIQUE (subject, period)
);
