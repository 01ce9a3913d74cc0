// Package readme holds the test that keeps README.md's Go blocks a program
// that compiles and runs.
package readme

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

// goBlocks returns the ```go blocks of markdown, in order.
func goBlocks(markdown string) []string {
	re := regexp.MustCompile("(?ms)^```go\n(.*?)^```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(markdown, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeBlocksRun pastes README.md's Go blocks in order into one
// program, as a new user would, and builds and runs it against an embedded
// Redis (in place of localhost:6379) with a fresh SQLite file.
func TestReadmeBlocksRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	md, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(md))
	if len(blocks) < 5 || !strings.HasPrefix(blocks[0], "package main\n") {
		t.Fatalf("README.md has %d Go blocks, the first should start with package main", len(blocks))
	}
	mr := miniredis.RunT(t)
	src := strings.Join(blocks, "\n")
	if !strings.Contains(src, `"localhost:6379"`) {
		t.Fatal(`README program does not connect to "localhost:6379"`)
	}
	src = strings.ReplaceAll(src, `"localhost:6379"`, `"`+mr.Addr()+`"`)
	// Inside the module, so that its go.mod resolves the imports.
	dir, err := os.MkdirTemp(".", "prog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run of README.md's Go blocks: %v\n%s\n--- program:\n%s", err, out, src)
	}
	for _, want := range []string{"created today: 1, logged in this week: true", "paid: [1]", "DAU 1, MAU 1; new this week 1; paying users 1; funnel 1 -> 1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if keys := mr.Keys(); len(keys) == 0 {
		t.Error("the program marked nothing")
	}
}
