package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/lbm-project/lbm/internal/server"
)

// storeFlags are where a command finds the store: the data directory, and
// the PostgreSQL databases when the store is not the embedded SQLite one.
type storeFlags struct {
	data, db, keysDB string
}

// register adds --data (defaulting to dataDefault), --db and --keys-db.
// The URLs default to LBM_DB and LBM_KEYS_DB, so that a password in one need
// not appear on a command line, where other users of the machine can read it.
func (f *storeFlags) register(cmd *cobra.Command, dataDefault, dataUsage string) {
	cmd.Flags().StringVar(&f.data, "data", dataDefault, dataUsage)
	cmd.Flags().StringVar(&f.db, "db", os.Getenv("LBM_DB"), "PostgreSQL events database, postgres://USER@HOST/NAME, instead of SQLite in --data (LBM_DB)")
	cmd.Flags().StringVar(&f.keysDB, "keys-db", os.Getenv("LBM_KEYS_DB"), "PostgreSQL keys database (LBM_KEYS_DB; default: NAME_keys beside --db)")
}

// config is the server.Config naming these places.
func (f *storeFlags) config() server.Config {
	return server.Config{DataDir: f.data, DB: f.db, KeysDB: f.keysDB, KEK: os.Getenv("LBM_KEK"), KEKOld: os.Getenv("LBM_KEK_OLD")}
}
