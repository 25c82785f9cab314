-- Witnesses' cosignatures of published checkpoints (store.Cosignature),
-- one per (log, checkpoint size, witness), kept forever as checkpoints are.
-- witness is the name in DATA/witnesses.yaml; line the signature line as
-- the witness returned it, checked before it was stored. time is Unix
-- nanoseconds in bigint, as elsewhere. witness is COLLATE "C" so that
-- listings order names byte by byte, as on SQLite.
CREATE TABLE cosignatures (
    log     text   NOT NULL,
    size    bigint NOT NULL CHECK (size >= 0),
    witness text   COLLATE "C" NOT NULL,
    line    bytea  NOT NULL,
    time    bigint NOT NULL,
    PRIMARY KEY (log, size, witness),
    FOREIGN KEY (log, size) REFERENCES checkpoints (log, size)
);
-- A witness's last cosigned size is where its next push starts from.
CREATE INDEX cosignatures_witness ON cosignatures (log, witness, size);
