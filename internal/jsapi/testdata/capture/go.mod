module jscap

go 1.26
