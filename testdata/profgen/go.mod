module flamewright/testdata/profgen

go 1.19
