-- Witnesses' cosignatures of published checkpoints (store.Cosignature),
-- one per (log, checkpoint size, witness), kept forever as checkpoints are.
-- witness is the name in DATA/witnesses.yaml; line the signature line as
-- the witness returned it, checked before it was stored. time is Unix
-- nanoseconds, as elsewhere.
CREATE TABLE cosignatures (
    log     TEXT    NOT NULL,
    size    INTEGER NOT NULL CHECK (size >= 0),
    witness TEXT    NOT NULL,
    line    BLOB    NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY (log, size, witness),
    FOREIGN KEY (log, size) REFERENCES checkpoints (log, size)
) WITHOUT ROWID;
-- A witness's last cosigned size is where its next push starts from.
CREATE INDEX cosignatures_witness ON cosignatures (log, witness, size);
