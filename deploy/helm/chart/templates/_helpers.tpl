{{/* Labels that select this release's pods (never change them on upgrade). */}}
{{- define "helpline.selector" -}}
app.kubernetes.io/name: {{ .Release.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "helpline.labels" -}}
{{ include "helpline.selector" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
