package testutil

import (
	"os"
	"testing"
)

// Names of the environment variables naming the SQL databases and the
// browser used by integration tests.
const (
	// EnvPostgresDSN names the variable holding a PostgreSQL DSN, e.g.
	// "host=127.0.0.1 user=postgres dbname=test sslmode=disable".
	EnvPostgresDSN = "BITMAPIST_TEST_POSTGRES_DSN"
	// EnvMySQLDSN names the variable holding a MySQL/MariaDB DSN, e.g.
	// "root@tcp(127.0.0.1:3306)/test?parseTime=true".
	EnvMySQLDSN = "BITMAPIST_TEST_MYSQL_DSN"
	// EnvChromium names the variable holding the path of a Chromium binary,
	// e.g. "/usr/bin/chromium".
	EnvChromium = "BITMAPIST_TEST_CHROMIUM"
)

// PostgresDSN returns the PostgreSQL DSN from BITMAPIST_TEST_POSTGRES_DSN.
// ok is false when the variable is unset, so the caller can t.Skip; in CI
// (CI non-empty) an unset variable fails the test instead.
func PostgresDSN(t testing.TB) (dsn string, ok bool) {
	t.Helper()
	return fromEnv(t, EnvPostgresDSN)
}

// MySQLDSN returns the MySQL/MariaDB DSN from BITMAPIST_TEST_MYSQL_DSN.
// ok is false when the variable is unset, so the caller can t.Skip; in CI
// (CI non-empty) an unset variable fails the test instead.
func MySQLDSN(t testing.TB) (dsn string, ok bool) {
	t.Helper()
	return fromEnv(t, EnvMySQLDSN)
}

// ChromiumPath returns the Chromium binary path from BITMAPIST_TEST_CHROMIUM.
// ok is false when the variable is unset, so the caller can t.Skip; in CI
// (CI non-empty) an unset variable fails the test instead.
func ChromiumPath(t testing.TB) (path string, ok bool) {
	t.Helper()
	return fromEnv(t, EnvChromium)
}

// fromEnv reads name, applying the CI rule.
func fromEnv(t testing.TB, name string) (string, bool) {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv(EnvCI) != "" {
			t.Fatalf("CI must set %s", name)
		}
		return "", false
	}
	return v, true
}
