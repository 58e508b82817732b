module flamewright/demo

go 1.19
