// Package archtest holds tests that enforce the architecture: which
// packages may import what, and which may read the clock. It has no code.
package archtest
