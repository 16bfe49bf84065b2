{{/*
Names. The full name prefixes every object this chart creates; it is "<release>" when the release
name already contains the chart name, else "<release>-<chart>", cut to 63 characters.
*/}}
{{- define "ephemera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ephemera.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ephemera.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "ephemera.labels" -}}
helm.sh/chart: {{ include "ephemera.chart" . }}
{{ include "ephemera.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ephemera
{{- end }}

{{/* Labels of what `helm test` runs: no controller component, so nothing of the controller's selects them. */}}
{{- define "ephemera.testLabels" -}}
helm.sh/chart: {{ include "ephemera.chart" . }}
app.kubernetes.io/name: {{ include "ephemera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: install-check
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ephemera
{{- end }}

{{/* Labels that select the controller pods; never change them (Deployment selectors are immutable). */}}
{{- define "ephemera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ephemera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "ephemera.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ephemera.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ephemera.webhookServiceName" -}}
{{- printf "%s-webhook" (include "ephemera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ephemera.metricsServiceName" -}}
{{- printf "%s-metrics" (include "ephemera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The webhooks' certificate Secret: the user's (certificates.mode existingSecret) or the chart's. */}}
{{- define "ephemera.webhookSecretName" -}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- .Values.webhooks.certificate.existingSecret }}
{{- else }}
{{- printf "%s-webhook-tls" (include "ephemera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The DNS names a Service answers to, as a YAML list: name.namespace.svc first. */}}
{{- define "ephemera.serviceDnsNames" -}}
{{- $service := .service }}
{{- $namespace := .namespace }}
{{- toYaml (list (printf "%s.%s.svc" $service $namespace) (printf "%s.%s.svc.cluster.local" $service $namespace) $service (printf "%s.%s" $service $namespace)) }}
{{- end }}

{{/*
How the API server verifies a webhook: the caBundle field (certificates.mode helm or
existingSecret), or nothing, for the controller (controller) or cert-manager's cainjector
(certManager; see ephemera.webhookAnnotations) to fill. Call with the root context; indent with nindent.
*/}}
{{- define "ephemera.webhookCaBundle" -}}
{{- if eq .Values.certificates.mode "helm" }}
caBundle: {{ (include "ephemera.webhookCertificates" . | fromYaml).caCert | b64enc }}
{{- else if eq .Values.certificates.mode "existingSecret" }}
caBundle: {{ .Values.webhooks.certificate.caBundle | b64enc }}
{{- end }}
{{- end }}

{{/*
The webhook configurations that call the controller, as a YAML list of kind/name ("mutating/NAME",
"validating/NAME"); the first owns what the controller creates (certificates.mode controller).
*/}}
{{- define "ephemera.webhookConfigurationRefs" -}}
{{- $fullname := include "ephemera.fullname" . -}}
- mutating/{{ $fullname }}-mutating-webhook
- validating/{{ $fullname }}-validating-webhook
{{- if .Values.webhooks.ephemeralContainers.enabled }}
- validating/{{ $fullname }}-ephemeral-containers-webhook
{{- end }}
{{- end }}

{{/* A webhook configuration's metadata.annotations: cainjector's, under certificates.mode certManager. */}}
{{- define "ephemera.webhookAnnotations" -}}
{{- if eq .Values.certificates.mode "certManager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ printf "%s/%s-webhook" .Release.Namespace (include "ephemera.fullname" .) }}
{{- end }}
{{- end }}

{{- define "ephemera.leaseName" -}}
{{- printf "%s-leader" (include "ephemera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Images are named only by digest: a re-pushed tag can never change what runs. checkValues refuses a
missing digest with a message that says how to get one; `required` here is the same guard for a
template that renders an image without including checkValues first.
*/}}
{{- define "ephemera.digestHint" -}}
the chart names its images only by digest (sha256:<64 hex>). Get the digest of a pushed image with `docker buildx imagetools inspect REPOSITORY:TAG` or `crane digest REPOSITORY:TAG` (on this repository's local cluster: tests/cluster/cluster.sh image-ref ephemera.local/controller:0.1.0), then pass --set image.digest=sha256:... --set snapshotImage.digest=sha256:... (docs/install.md)
{{- end }}

{{/* The controller image, repository@digest. */}}
{{- define "ephemera.image" -}}
{{- $digest := required (printf "image.digest is required: %s" (include "ephemera.digestHint" .)) .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository $digest }}
{{- end }}

{{/* The snapshot image, repository@digest (the controller also refuses anything else). */}}
{{- define "ephemera.snapshotImage" -}}
{{- $digest := required (printf "snapshotImage.digest is required: %s" (include "ephemera.digestHint" .)) .Values.snapshotImage.digest }}
{{- printf "%s@%s" .Values.snapshotImage.repository $digest }}
{{- end }}

{{/*
The webhook CA and serving certificate, as a dict {caCert, tlsCert, tlsKey} (PEM). Kept from the
existing Secret when there is one (an upgrade does not rotate them), else generated. Computed once per
render and cached on the root context, so the Secret, the webhook configurations and the Deployment's
checksum annotation all see the same certificate. Call with the root context.
*/}}
{{- define "ephemera.webhookCertificates" -}}
{{- if not (hasKey . "ephemeraWebhookCertificates") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "ephemera.webhookSecretName" .) }}
{{- $certs := dict }}
{{- if and $secret (hasKey ($secret.data | default dict) "ca.crt") (hasKey $secret.data "tls.crt") (hasKey $secret.data "tls.key") }}
{{- $_ := set $certs "caCert" (index $secret.data "ca.crt" | b64dec) }}
{{- $_ := set $certs "tlsCert" (index $secret.data "tls.crt" | b64dec) }}
{{- $_ := set $certs "tlsKey" (index $secret.data "tls.key" | b64dec) }}
{{- else }}
{{- $dns := include "ephemera.serviceDnsNames" (dict "service" (include "ephemera.webhookServiceName" .) "namespace" .Release.Namespace) | fromYamlArray }}
{{- $days := int .Values.webhooks.certificate.validityDays }}
{{- $ca := genCA (printf "%s-webhook-ca" (include "ephemera.fullname" .)) $days }}
{{- $cert := genSignedCert (first $dns) nil $dns $days $ca }}
{{- $_ := set $certs "caCert" $ca.Cert }}
{{- $_ := set $certs "tlsCert" $cert.Cert }}
{{- $_ := set $certs "tlsKey" $cert.Key }}
{{- end }}
{{- $_ := set . "ephemeraWebhookCertificates" $certs }}
{{- end }}
{{- toYaml (get . "ephemeraWebhookCertificates") }}
{{- end }}

{{/* Value combinations that cannot work: refuse them at render time instead of at run time. */}}
{{- define "ephemera.checkValues" -}}
{{- $missing := list }}
{{- if not .Values.image.digest }}{{ $missing = append $missing "image.digest" }}{{ end }}
{{- if not .Values.snapshotImage.digest }}{{ $missing = append $missing "snapshotImage.digest" }}{{ end }}
{{- if $missing }}
{{- fail (printf "%s %s required: %s" (join " and " $missing) (ternary "is" "are" (eq (len $missing) 1)) (include "ephemera.digestHint" .)) }}
{{- end }}
{{- /* The schema checks these too; here also when a value was removed with --set x=null. */}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- $need := list }}
{{- if not .Values.webhooks.certificate.existingSecret }}{{ $need = append $need "webhooks.certificate.existingSecret" }}{{ end }}
{{- if not .Values.webhooks.certificate.caBundle }}{{ $need = append $need "webhooks.certificate.caBundle" }}{{ end }}
{{- if not .Values.metrics.certificate.existingSecret }}{{ $need = append $need "metrics.certificate.existingSecret" }}{{ end }}
{{- if $need }}
{{- fail (printf "certificates.mode existingSecret needs %s: kubernetes.io/tls Secrets of yours in %s and the CA that signed the webhooks' (docs/install.md#certificates)" (join ", " $need) .Release.Namespace) }}
{{- end }}
{{- end }}
{{- $pdbMin := .Values.podDisruptionBudget.minAvailable }}
{{- if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1) (not (kindIs "string" $pdbMin)) (ge (int $pdbMin) (int .Values.replicaCount)) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicaCount (%d), else no node running a replica can ever be drained" (int $pdbMin) (int .Values.replicaCount)) }}
{{- end }}
{{- if not (eq (dig "runAsNonRoot" false (.Values.podSecurityContext | default dict)) true) }}
{{- fail "podSecurityContext.runAsNonRoot must be true: the controller never runs as root (Pod Security Standard restricted)" }}
{{- end }}
{{- if not (eq (dig "allowPrivilegeEscalation" true (.Values.securityContext | default dict)) false) }}
{{- fail "securityContext.allowPrivilegeEscalation must be false: the controller never gains privileges (Pod Security Standard restricted)" }}
{{- end }}
{{- if and (eq .Values.policy.ephemeralContainers "enforce") (not .Values.webhooks.ephemeralContainers.enabled) }}
{{- fail "policy.ephemeralContainers=enforce denies ephemeral containers at admission and needs webhooks.ephemeralContainers.enabled=true" }}
{{- end }}
{{- end }}

{{/* The controller's configuration file (--config): the cluster policy, and under
certificates.mode controller the certificates it keeps itself. */}}
{{- define "ephemera.controllerConfig" -}}
policy:
  {{- toYaml .Values.policy | nindent 2 }}
{{- if eq .Values.certificates.mode "controller" }}
certificates:
  webhookSecret: {{ include "ephemera.webhookSecretName" . }}
  webhookService: {{ include "ephemera.webhookServiceName" . }}
  webhookConfigurations:
    {{- include "ephemera.webhookConfigurationRefs" . | nindent 4 }}
  metricsSecret: {{ include "ephemera.metricsSecretName" . }}
  metricsService: {{ include "ephemera.metricsServiceName" . }}
  validity: {{ mul (int .Values.webhooks.certificate.validityDays) 24 }}h
{{- end }}
{{- with .Values.webhooks.clientAuth }}
{{- if .caBundle }}
webhookClientCaFile: /etc/ephemera/config/webhook-client-ca.crt
webhookClientAuth: {{ ternary "require" "request" .required }}
webhookClientNames:
  {{- toYaml .allowedNames | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The key the controller marks its snapshot containers with (HMAC; docs/policy.md). The controller
reads it from the Secret ephemera-mark-key in its namespace (a fixed name). The chart creates it so
that uninstalling removes it, and keeps it across upgrades: a new key would make every earlier mark
look unsanctioned.
*/}}
{{- define "ephemera.markKey" -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace "ephemera-mark-key" }}
{{- if and $secret (hasKey ($secret.data | default dict) "key") }}
{{- index $secret.data "key" }}
{{- else }}
{{- randAlphaNum 64 | b64enc }}
{{- end }}
{{- end }}
