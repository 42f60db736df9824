# Thin wrappers: the scripts are the source of truth (CI runs .ci/run -> scripts/test).
.PHONY: test check fuzz gen build example test-gunicorn

test:            ## everything: vet, go test -race, Python runtime tests, build, e2e (SERVER=gonicorn)
	bash scripts/test

test-gunicorn:   ## the e2e suites against real gunicorn (validates the tests themselves)
	SERVER=gunicorn bash scripts/test

check:           ## quick: gofmt, vet, go test (no e2e)
	@test -z "$$(gofmt -l cmd internal 2>/dev/null)" || { gofmt -l cmd internal; echo "gofmt needed"; exit 1; }
	go vet ./...
	go test -timeout 5m ./...

fuzz:            ## every Go fuzz target for FUZZTIME (default 20s)
	bash scripts/fuzz

gen:             ## regenerate generated files (docs/settings.md, test vectors)
	go generate ./...

build:
	go build -o bin/gonicorn ./cmd/gonicorn

example:
	bash scripts/run-example
