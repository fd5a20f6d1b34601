// dockerfile-lint checks Dockerfiles with BuildKit's own rules, the ones `docker build --check` applies, without
// a Docker engine: it runs BuildKit's Dockerfile front end in lint mode over each file named.
//
// Why this linter: hadolint is written in Haskell and is not on the registries this project installs from;
// BuildKit is the builder Docker itself uses, well kept, and its linter is a Go package on the Go module proxy.
//
// Base images are never fetched (no image registry is needed): each is taken as an empty Linux image with the
// usual PATH, which is all the rules look at. Exit status 1 when any rule is broken or a file does not parse.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	digest "github.com/opencontainers/go-digest"
)

type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	})
	return ref, digest.FromBytes(config), config, err
}

func lintFile(path string) (bool, error) {
	source, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	sourceMap := llb.NewSourceMap(nil, path, "Dockerfile", source)
	sourceMap.Definition = &llb.Definition{} // the report quotes the file's lines; no build graph is made
	results, err := dockerfile2llb.DockerfileLint(context.Background(), source, dockerfile2llb.ConvertOpt{
		SourceMap:    sourceMap,
		MetaResolver: offlineImages{},
	})
	if err != nil {
		return false, err
	}
	report, err := json.Marshal(results)
	if err != nil {
		return false, err
	}
	var printed bytes.Buffer
	if err := lint.PrintLintViolations(report, &printed, nil); err != nil {
		return false, err
	}
	fmt.Print(printed.String())
	if results.Error != nil {
		fmt.Printf("%s: %s\n", path, results.Error.Message)
	}
	return len(results.Warnings) == 0 && results.Error == nil, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-lint Dockerfile...")
		os.Exit(2)
	}
	clean := true
	for _, path := range os.Args[1:] {
		ok, err := lintFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(2)
		}
		if ok {
			fmt.Printf("%s: no problems\n", path)
		}
		clean = clean && ok
	}
	if !clean {
		os.Exit(1)
	}
}
