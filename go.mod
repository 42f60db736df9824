module github.com/gonicorn/gonicorn

go 1.26.8
