module pods-course/kindnet

go 1.26
