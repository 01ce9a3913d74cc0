package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLocalCloneSetupWithoutChecksumDatabase runs README.md's
// local-clone set-up (the sh block with -replace) in a fresh module holding
// the README program, as a user would, with GOPROXY=off: a proxy that does
// not serve the checksum database, as an offline or company proxy, where
// the go command would ask sum.golang.org itself for every checksum
// go.sum lacks. The set-up must succeed and the program build, from the
// module cache alone. Before, its "go get github.com/glebarez/sqlite &&
// go mod tidy" looked the module up and failed ("verifying module").
func TestReadmeLocalCloneSetupWithoutChecksumDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and builds a program")
	}
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var setup string
	for _, m := range regexp.MustCompile("(?ms)^```sh\n(.*?)^```").FindAllStringSubmatch(string(md), -1) {
		if strings.Contains(m[1], "-replace=github.com/bitmapist-go/bitmapist=../bitmapist") {
			setup = m[1]
		}
	}
	if setup == "" || !strings.HasPrefix(setup, "git clone <this repository> ../bitmapist") {
		t.Fatalf("README.md has no local-clone set-up starting with the clone:\n%s", setup)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The clone: the repository itself.
	if err := os.Symlink(root, filepath.Join(dir, "bitmapist")); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(strings.Join(goBlocks(string(md)), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "set -ex\ngo mod init example.com/app\n" + setup[strings.IndexByte(setup, '\n')+1:] + "go build -o /dev/null .\n"
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script)
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOBIN="+filepath.Join(dir, "bin"), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README set-up failed: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "bitmapist")); err != nil {
		t.Errorf("the command was not installed: %v\n%s", err, out)
	}
	mod, _ := os.ReadFile(filepath.Join(app, "go.mod"))
	for _, want := range []string{"github.com/bitmapist-go/bitmapist v0.0.0", "github.com/glebarez/sqlite", "replace github.com/bitmapist-go/bitmapist => ../bitmapist"} {
		if !strings.Contains(string(mod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
	}
}
