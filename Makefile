# The two commands a newcomer needs:
#   make run    the server on the embedded default store, with demo data
#   make test   every test, as CI runs it
GO ?= go

.PHONY: run test build vet fmt fuzz bench

run:
	$(GO) run ./cmd/lbm serve --demo

test:
	bash scripts/test.sh

build:
	$(GO) build -o lbm ./cmd/lbm

vet:
	$(GO) vet ./...

fmt:
	gofmt -w .

# Long fuzzing stays out of CI: FUZZTIME=10m make fuzz
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) run ./cmd/lbm bench ingest
