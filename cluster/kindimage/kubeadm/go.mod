module pods-course/kubeadm

go 1.26
