module kamaji-ui/localcluster/pause

go 1.24
