module ephemera.dev/tests/goparked

go 1.21
