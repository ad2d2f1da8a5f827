{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "pdfonto.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, plus the chart name unless it already says so. */}}
{{- define "pdfonto.fullname" -}}
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

{{- define "pdfonto.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pdfonto.labels" -}}
helm.sh/chart: {{ include "pdfonto.chart" . }}
app.kubernetes.io/name: {{ include "pdfonto.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "pdfonto.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pdfonto.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Image of one component: include "pdfonto.image" (list $ "parse") */}}
{{- define "pdfonto.image" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s:%s" $root.Values.image.repository (index . 1) (default $root.Chart.AppVersion $root.Values.image.tag) }}
{{- end }}

{{/* Environment every component shares: settings from the ConfigMap, credentials from the Secret. */}}
{{- define "pdfonto.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "pdfonto.fullname" . }}
env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ required "secrets.existingSecret is required" .Values.secrets.existingSecret }}
        key: {{ .Values.secrets.keys.databaseUrl }}
  - name: S3_ACCESS_KEY
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.existingSecret }}
        key: {{ .Values.secrets.keys.s3AccessKey }}
  - name: S3_SECRET_KEY
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.existingSecret }}
        key: {{ .Values.secrets.keys.s3SecretKey }}
{{- end }}

{{/* A Knative Service running one pipeline function. Pass (dict "root" $ "component" "parse" "values" .Values.parse). */}}
{{- define "pdfonto.functionService" -}}
{{- $root := .root }}
{{- $v := .values }}
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: {{ include "pdfonto.fullname" $root }}-{{ .component }}
  labels:
    {{- include "pdfonto.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    # Reached only through the Broker, never from outside the cluster.
    networking.knative.dev/visibility: cluster-local
spec:
  template:
    metadata:
      labels:
        {{- include "pdfonto.selectorLabels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        autoscaling.knative.dev/min-scale: {{ $v.minScale | quote }}
        autoscaling.knative.dev/max-scale: {{ $v.maxScale | quote }}
        {{- if $v.target }}
        autoscaling.knative.dev/target: {{ $v.target | quote }}
        {{- end }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .containerConcurrency }}
      containerConcurrency: {{ .containerConcurrency }}
      {{- end }}
      timeoutSeconds: {{ $v.timeoutSeconds | default 300 }}
      {{- with .podExtras }}
      {{- . | nindent 6 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "pdfonto.image" (list $root .component) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - containerPort: 8080
          {{- include "pdfonto.env" $root | nindent 10 }}
          {{- with .extraEnv }}
          {{- . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml (.resources | default $v.resources) | nindent 12 }}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
            seccompProfile:
              type: RuntimeDefault
          {{- with .volumeMounts }}
          {{- . | nindent 10 }}
          {{- end }}
{{- end }}
