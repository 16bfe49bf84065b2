{{/* /metrics over HTTPS: the Secret's name and its certificate (docs/install.md#metrics). */}}
{{- define "ephemera.metricsSecretName" -}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- .Values.metrics.certificate.existingSecret }}
{{- else }}
{{- printf "%s-metrics-tls" (include "ephemera.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The metrics serving certificate and its CA: generated at install for the metrics Service's DNS
names and kept across upgrades (read back with lookup), as the webhook's are. Generated once per
render, so that the Secret and the Deployment's checksum annotation see the same certificate. Call
with the root context.
*/}}
{{- define "ephemera.metricsCertificates" -}}
{{- if not (hasKey . "ephemeraMetricsCertificates") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "ephemera.metricsSecretName" .) }}
{{- $certs := dict }}
{{- if and $secret (hasKey ($secret.data | default dict) "ca.crt") (hasKey $secret.data "tls.crt") (hasKey $secret.data "tls.key") }}
{{- $_ := set $certs "caCert" (index $secret.data "ca.crt" | b64dec) }}
{{- $_ := set $certs "tlsCert" (index $secret.data "tls.crt" | b64dec) }}
{{- $_ := set $certs "tlsKey" (index $secret.data "tls.key" | b64dec) }}
{{- else }}
{{- $dns := include "ephemera.serviceDnsNames" (dict "service" (include "ephemera.metricsServiceName" .) "namespace" .Release.Namespace) | fromYamlArray }}
{{- $dns = append $dns "localhost" }}
{{- $days := int .Values.metrics.certificate.validityDays }}
{{- $ca := genCA (printf "%s-metrics-ca" (include "ephemera.fullname" .)) $days }}
{{- $cert := genSignedCert (first $dns) (list "127.0.0.1") $dns $days $ca }}
{{- $_ := set $certs "caCert" $ca.Cert }}
{{- $_ := set $certs "tlsCert" $cert.Cert }}
{{- $_ := set $certs "tlsKey" $cert.Key }}
{{- end }}
{{- $_ := set . "ephemeraMetricsCertificates" $certs }}
{{- end }}
{{- toYaml (get . "ephemeraMetricsCertificates") }}
{{- end }}
