#!/bin/sh
# Regenerates the kubectl-*.json goldens: kubectl's own typed objects (Go's encoding/json of
# the typed struct, printed by `--dry-run=client -o json`), offline. kubectl v1.32.4 made the
# committed ones. (`kubectl run` and `create role` need a server for discovery: not here.)
set -e
cd "$(dirname "$0")"
D="--dry-run=client -o json"
kubectl create deployment web --image=nginx:1.25 --replicas=3 --port=80 $D > kubectl-deployment.json
kubectl create configmap cm --from-literal=a=b --from-literal=html='<b>&' -n prod $D > kubectl-configmap.json
kubectl create secret generic s --from-literal=password=hunter2 $D > kubectl-secret.json
kubectl create secret docker-registry reg --docker-server=r.example.com --docker-username=u --docker-password=p $D > kubectl-secret-docker.json
kubectl create service clusterip svc --tcp=80:8080 $D > kubectl-service-clusterip.json
kubectl create service nodeport np --tcp=443:https --node-port=30443 $D > kubectl-service-nodeport.json
kubectl create job j --image=busybox $D -- echo hi > kubectl-job.json
kubectl create cronjob cj --image=busybox --schedule="*/5 * * * *" $D -- date > kubectl-cronjob.json
kubectl create clusterrole cr --aggregation-rule=x=y $D > kubectl-clusterrole.json
kubectl create rolebinding rb --role=r --user=u --group=g $D > kubectl-rolebinding.json
kubectl create clusterrolebinding crb --clusterrole=cr --serviceaccount=ns:sa $D > kubectl-clusterrolebinding.json
kubectl create namespace ns $D > kubectl-namespace.json
kubectl create serviceaccount sa $D > kubectl-serviceaccount.json
kubectl create quota q --hard=cpu=1500m,memory=1Gi,pods=2 --scopes=BestEffort $D > kubectl-quota.json
kubectl create pdb pdb --selector=app=x --min-available=50% $D > kubectl-pdb.json
kubectl create pdb pdb2 --selector=app=x --max-unavailable=1 $D > kubectl-pdb-int.json
kubectl create priorityclass pc --value=1000 --description="high" --preemption-policy=Never $D > kubectl-priorityclass.json
kubectl create ingress ing --rule="foo.com/bar*=svc1:8080,tls=my-cert" --class=nginx $D > kubectl-ingress.json
